// placeholder: replaced by the address module
