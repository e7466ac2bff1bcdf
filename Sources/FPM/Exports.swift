// The HTTP types of the API (`HTTPRequest.Method`, `HTTPResponse.Status`, `HTTPFields`) come
// with `import FPM`: an app needs no second import nor a second package dependency.
@_exported import HTTPTypes
