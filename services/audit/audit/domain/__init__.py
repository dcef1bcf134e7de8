"""The audit domain in plain Python: tools and their forms, grades, the audit aggregate with its
stages and moderation, and the routing of copies. No web, database or broker code here."""
