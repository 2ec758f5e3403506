"""The vouchers commands, one small handler each (cosmicpython's ``service_layer/handlers.py``):
get the aggregates from the store, let the domain change them, save them together. One module
per area: funds, rounds, review (applications), issuing, redemption (vouchers), shops, claims,
personal data. The rules are the domain's (``vouchers.domain``); ``VouchersApplication`` is the
façade the routes, the clock job and the tests call."""
