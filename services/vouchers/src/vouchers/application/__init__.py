"""Use cases of the vouchers service: commands in, domain changes saved, queries out."""
