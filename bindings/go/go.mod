module snapmap.dev/snapmap

go 1.19
