"""Hillingdon's operational quality assurance (seed 002, 4.1-4.5 and appendices B and C): practice
observation, IRO and CP chair monitoring forms with their monthly collation, service-user feedback
and consultation, lessons learned from complaints and members' enquiries, and compliments."""
