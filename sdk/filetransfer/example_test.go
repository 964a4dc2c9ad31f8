package filetransfer_test

import (
	"fmt"

	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

func ExampleParseSelector() {
	sel, err := filetransfer.ParseSelector(`size:32349 name:"My cool picture.jpg" type:image/jpeg hash:sha1:72:24:5f:e8:65:3d:da:f3:71:36:2f:86:d4:71:91:3e:e4:a2:ce:2e`)
	if err != nil {
		panic(err)
	}
	fmt.Println(sel.Name, sel.Size)
	fmt.Println(sel)
	// Output:
	// My cool picture.jpg 32349
	// name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:72:24:5F:E8:65:3D:DA:F3:71:36:2F:86:D4:71:91:3E:E4:A2:CE:2E
}

func ExampleGuessType() {
	fmt.Println(filetransfer.GuessType("holiday.png"), filetransfer.GuessType("backup.tar.gz"), filetransfer.GuessType("README"))
	// Output: image/png application/x-gzip application/octet-stream
}
