"""A transparency-log witness in the C2SP `tlog-witness` form, without Django.

A partner runs `kotacerdas witness serve` on its own machine with its own
Ed25519 key. The city node submits each new checkpoint with a consistency proof
from the last one this witness co-signed. The witness checks the node's
signature and the proof, then returns a `cosignature/v1` line, or rejects the
checkpoint and keeps the conflicting checkpoints as evidence.

The package needs no database: its state is a few files in one directory (see
`store`). It imports only the Django-free `journal.notes` and `journal.merkle`.
"""
