// placeholder: replaced by the store module
