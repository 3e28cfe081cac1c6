"""orders-api: customers and their orders, with payments through a partner's API."""
