"""Reads: what a user may see, and why a lead may not be called."""

from campaigns.selectors.explaining import (
    CUSTOMER,
    OPS,
    DialCheck,
    Reason,
    block_sentence,
    blocks_stopping,
    can_dial,
    explain,
)

__all__ = ["CUSTOMER", "OPS", "DialCheck", "Reason", "block_sentence", "blocks_stopping", "can_dial", "explain"]
