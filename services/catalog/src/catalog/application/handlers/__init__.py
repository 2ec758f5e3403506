"""The catalog's commands, one small handler each, grouped by area (``providers``,
``merchants``, ``offerings``, ``slots``, ``packages``): get the aggregates from the store
(:class:`catalog.application.store.CatalogStore`), ask the domain to change them, save. The
rules are the domain's; a handler only fetches what a rule needs."""
