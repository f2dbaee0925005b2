"""The customers' portal under ``/portal/``: an adapter over ``campaigns`` and ``suppressions`` services.

Not a Django app: it has no models. Every read goes through ``campaigns.portal.selectors.owned``, which
filters by the signed-in user's customer in the query itself, so another customer's id is a 404.
"""
