// placeholder: replaced by the net module
