"""The demo city: role logins (and, as apps grow, realistic Padang Panjang data)."""
