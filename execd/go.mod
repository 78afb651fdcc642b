module execd-builder/execd

go 1.19
