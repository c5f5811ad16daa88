"""The volunteer's ``provision`` command: check a PC, then turn it into a kiosk with Ansible."""
