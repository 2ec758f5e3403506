"""What connects the vouchers service to the world outside its domain: the read model."""
