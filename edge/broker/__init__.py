"""Broker security: the accounts of a site, its Mosquitto ACL and password file (`edge broker-config`)."""
