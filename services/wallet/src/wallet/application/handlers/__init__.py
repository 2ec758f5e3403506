"""The wallet's command handlers, one module per area, one small function per command:
get the aggregates from the unit of work → change them through the domain → return (the
runner saves; see ``wallet.application.context``).

* ``plans``: create and fund a plan, allow bonus conversion, close a plan (carry-over/expiry)
* ``employees``: enrol, grant credit, bulk loads of HR's CSV files (``bulk_loads``)
* ``holds``: hold, capture, release, refund (the hot path, group-committed)
* ``family``: family members and the delegate
* ``bonus``: productivity bonuses converted into credit
* ``jobs``: the periodic jobs' work on one wallet (expired holds, expiry reminders)
* ``saga``: holds, captures and releases asked by events (the booking saga)
"""
