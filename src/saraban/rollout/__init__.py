"""The roll-out programme console: readiness survey, grouping, support, certificates, roadshows, outreach."""
