"""`fleet simulate`: a region of virtual nodes against a local broker, through a broker
restart, a slow broker or a frozen cluster member, measured at the broker and at the
platform's side (see run.py; the nodes themselves: nodes_mp.py under the unix port)."""
