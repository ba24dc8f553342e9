"""A minimal module defined inside the test suite (issue 14): installed by adding its name to
``pingan.modules.INSTALLED``, it must appear in the API, the OpenAPI document, the main menu,
the audit page and the server's lifespan with no file of ``src/`` changed."""
