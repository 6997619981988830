"""Who is acting: principals, roles and their permissions, record scope, sessions and API keys."""
