// placeholder: replaced by the dsn module
