module github.com/bassareggiana/faldone

go 1.26
