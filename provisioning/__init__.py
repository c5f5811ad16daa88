"""Everything that runs away from the kiosk: the volunteer's provisioning command and the fleet server."""
