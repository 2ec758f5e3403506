"""The auditor of Benecomune's public-money ledgers: an independent replay.

It reads a ledger's public contract events — from its Kafka topic or from the service's store
— verifies every stream's hash chain, adds the events up in a tally of its own and checks the
money rules with its own copy of each rule, then compares its figures with the service's, to
the cent. It depends on the contracts (and the compiled ``benecomune_ledgercheck``), never on a
service: a service's figures come from its HTTP API, or from the small hook it names in the
``benecomune.audit_ledgers`` entry-point group (:mod:`benecomune_auditor.service_hooks`).

The engine: :mod:`.records` (what a reader yields), :mod:`.kafka_copy` and
:mod:`.topic_reader` (reading a topic), :mod:`.store_reader` (reading a store through the
hook), :mod:`.replay` (the chains verified, the sound events fed to a tally), :mod:`.report`
and :mod:`.ledger_seal` (the seal of every stream's head). The ledgers: :mod:`.vouchers` and
:mod:`.wallet` (each its tally, its rules, its figures and its report), described for the
command line in :mod:`.ledgers`.

Kept light on purpose: a reader process imports this package first.
"""
