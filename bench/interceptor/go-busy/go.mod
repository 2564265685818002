module gobusy

go 1.19
