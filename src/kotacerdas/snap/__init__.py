"""Inbound SNAP (Bank Indonesia's national open payment API) endpoints.

A partner bank tops up wallets through the virtual-account inquiry and payment
calls, and `kotacerdas bank-sim` plays such a bank against a local server.
"""
