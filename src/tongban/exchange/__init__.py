"""Data exchange (数据共享交换): standard data elements and adapters to department sources.

elements    the data-element registry (elements.toml) and its code lists
cleaning    pure cleaning and standardization of legacy values (dates in dates.py,
            addresses in addresses.py); failures are Problems, never passed on
mapping     declarative mappings from a legacy source to elements (mappings/*.toml)
adapters    fetch / check / iter_records over SQL (adapters_sql), CSV/Excel file
            drops (adapters_file) and REST/JSON (adapters_rest) sources, read-only
quality     the data-quality report of a source, and cross-source checks
"""
