// Vite's ?raw imports, used to check the docs against the code it describes.
declare module '*?raw' {
  const text: string
  export default text
}
