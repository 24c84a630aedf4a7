"""Use cases. Each public function is one transaction; commits happen here and nowhere else.

Services take the acting user and inputs as arguments and never read Flask's request,
session, g or current_user.
"""
