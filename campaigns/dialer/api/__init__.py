"""The dialer API, v1: pull leads, check a number, record calls, release leases. A client of the services."""
