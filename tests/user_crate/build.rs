fn main() {
    tokengym_build::link_libtorch();
}
