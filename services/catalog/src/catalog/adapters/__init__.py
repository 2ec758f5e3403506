"""Adapters: the read model kept from the event log (``read_model``), and which domain events
leave the service as which contract events (``contract_mapping``)."""
