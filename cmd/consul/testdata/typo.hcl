server = true
data_dri = "/var/consul"
