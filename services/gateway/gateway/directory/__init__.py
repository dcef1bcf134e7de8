"""The directory: staff, the team structure and children's cases, kept by the case-management
system through the gateway's API and published as events the services project."""
