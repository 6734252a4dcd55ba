# broker.host then broker.hosts: the members a node tries in turn.
from app.link import brokers


def test_host_first_then_the_list_with_the_default_port():
    b = {"host": "a.example", "port": 1884, "hosts": ["b.example:1885", "10.0.0.3", "c.example:8883"]}
    assert brokers(b) == [("a.example", 1884), ("b.example", 1885), ("10.0.0.3", 1884), ("c.example", 8883)]


def test_tls_default_port_and_no_list():
    assert brokers({"host": "a", "tls": True}) == [("a", 8883)]
    assert brokers({"host": "a", "hosts": []}) == [("a", 1883)]
