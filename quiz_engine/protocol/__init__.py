"""Wire format: frame shapes, codecs and codes. Pure: no asyncio, redis or starlette."""
