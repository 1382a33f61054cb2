// hello stands in for the scheduler binary in hack/image's tests: a tiny
// program without dependencies, cross-built for each platform.
package main

import "fmt"

func main() {
	fmt.Println("hello from hack/image/testdata")
}
