"""Kota Cerdas: a smart-city platform with a verifiable ledger."""
