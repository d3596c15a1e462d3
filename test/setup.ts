import '../src/_polyfill.js'
