"""Staff accounts: users with a role, argon2id passwords, a rate-limited login and expiring sessions."""
