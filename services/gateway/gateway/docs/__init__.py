"""The one documentation site: the aggregated OpenAPI document rendered with Swagger UI, and the
AsyncAPI event catalogue rendered as a plain page; every script and style served by the gateway."""
