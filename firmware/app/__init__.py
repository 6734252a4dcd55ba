# The node application: sensing, store-and-forward and uplink above a thin board layer.
VERSION = "0.1.0"
