"""The booking service: a booking of one offering or a package, as a saga across the catalog
(slots), the wallet and the vouchers (funds) and the providers (acceptance)."""
