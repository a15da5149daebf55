"""Requests (tickets): identity, timeline, intake and the status machine."""
