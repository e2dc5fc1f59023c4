"""Who may see and do what: tenancy by role, secrecy grants, and the deployment's policy switches."""
