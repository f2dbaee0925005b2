"""The dialer's side of leadops: the lead pool (``pool``: pull and release, each lead leased to one caller),
which numbers of the pulled leads may be dialled (``dialable``), and the HTTP API the dialer calls (``api``).

It sits on top: it reads the core (the dial check is ``campaigns.selectors.explaining.can_dial_lead``) and
suppressions (the pull's live filter and upload hold), and nothing below imports it (``docs/layers.md``).
"""
