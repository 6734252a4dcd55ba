"""Host-side tools for smart sensor nodes: build, flash, provision, deploy, inspect, replay."""
