# The ledger aggregates hash their events in their public form: register the mapping.
import vouchers.contract_mapping  # noqa: F401
