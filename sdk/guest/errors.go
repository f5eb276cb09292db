package guest

import "errors"

var errNoHandler = errors.New("guest: no handler registered; call guest.Handle in an init function")
