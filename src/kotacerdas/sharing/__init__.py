"""Cost and revenue sharing between the city and its technology partner.

Fees on payments are split at payment time into the `fees:city` and
`fees:partner` wallet accounts. The partner's costs are recorded against a
pilot. The monthly statement per party is computed from the journal alone.
"""
